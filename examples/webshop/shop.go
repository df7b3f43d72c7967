package main

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/khipu-go/khipu"
)

// Product is something the shop sells.
type Product struct {
	ID       string
	Name     string
	Price    khipu.Amount
	Currency string
}

// Shop is a small web shop that takes payments with Khipu.
type Shop struct {
	Client   *khipu.Client
	Orders   *Store
	Products []Product
	// BaseURL is where Khipu and the payer reach the shop, e.g.
	// "https://shop.example"; notify_url and return_url are built from it.
	BaseURL string
	Log     *slog.Logger
}

// Handler returns the shop's routes.
func (s *Shop) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.products)
	mux.HandleFunc("POST /orders", s.checkout)
	mux.HandleFunc("GET /orders/{id}", s.returnPage)
	mux.HandleFunc("GET /orders/{id}/status", s.status)
	mux.Handle("/khipu/notify", s.Client.NotificationHandler(s.paid))
	return mux
}

var productsPage = template.Must(template.New("products").Parse(`<!doctype html>
<title>Tienda</title>
<h1>Tienda</h1>
{{range .}}<form method="post" action="/orders">
  <input type="hidden" name="product" value="{{.ID}}">
  {{.Name}} — {{.Price}} {{.Currency}} <button>Pagar con Khipu</button>
</form>
{{end}}`))

func (s *Shop) products(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = productsPage.Execute(w, s.Products)
}

// checkout stores the order with its amount and currency, creates the Khipu
// payment for it and sends the payer to Khipu.
func (s *Shop) checkout(w http.ResponseWriter, r *http.Request) {
	var product *Product
	for i := range s.Products {
		if s.Products[i].ID == r.PostFormValue("product") {
			product = &s.Products[i]
		}
	}
	if product == nil {
		http.Error(w, "unknown product", http.StatusBadRequest)
		return
	}
	order := s.Orders.Create(product.ID, product.Price, product.Currency)
	created, err := s.Client.Payments.Create(r.Context(), &khipu.PaymentCreateParams{
		Subject:       product.Name,
		Currency:      order.Currency,
		Amount:        order.Amount,
		TransactionID: order.ID,
		ReturnURL:     s.BaseURL + "/orders/" + order.ID,
		CancelURL:     s.BaseURL + "/",
		NotifyURL:     s.BaseURL + "/khipu/notify",
	})
	if err != nil {
		// Create is never retried by the client: the payer can try again,
		// which makes a new order.
		s.Log.Error("creating the Khipu payment", "order", order.ID, "err", err)
		http.Error(w, "Khipu is not available right now, please try again", http.StatusBadGateway)
		return
	}
	s.Orders.SetPayment(order.ID, created.PaymentID)
	http.Redirect(w, r, created.PaymentURL, http.StatusSeeOther)
}

var returnPage = template.Must(template.New("return").Parse(`<!doctype html>
<title>Pedido {{.ID}}</title>
<h1>Pedido {{.ID}}</h1>
<p id="state">{{if .Paid}}Pagado. ¡Gracias!{{else}}Estamos verificando tu pago con Khipu…{{end}}</p>
{{if not .Paid}}<script>
(function poll() {
  fetch("/orders/{{.ID}}/status").then(r => r.json()).then(o => {
    if (o.paid) { document.getElementById("state").textContent = "Pagado. ¡Gracias!"; return; }
    setTimeout(poll, 2000);
  }).catch(() => setTimeout(poll, 5000));
})();
</script>{{end}}`))

// returnPage is where Khipu sends the payer back. Coming back proves nothing:
// the page says the payment is being verified and polls the order's state,
// which only the verified notification changes.
func (s *Shop) returnPage(w http.ResponseWriter, r *http.Request) {
	order, ok := s.Orders.Get(r.PathValue("id"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = returnPage.Execute(w, order)
}

// orderStatus is what the return page polls.
type orderStatus struct {
	ID   string `json:"id"`
	Paid bool   `json:"paid"`
}

func (s *Shop) status(w http.ResponseWriter, r *http.Request) {
	order, ok := s.Orders.Get(r.PathValue("id"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(orderStatus{ID: order.ID, Paid: order.Paid})
}

// paid runs for every notification the handler verified with Khipu. It checks
// the payment against the order and marks the order paid exactly once; it is
// quick, so Khipu gets its answer well inside 30 s.
func (s *Shop) paid(ctx context.Context, p *khipu.Payment) error {
	order, ok := s.Orders.Get(p.TransactionID)
	if !ok {
		s.Log.Warn("notification for an unknown order", "payment", p.PaymentID, "transaction_id", p.TransactionID)
		return nil // nothing to deliver, and a retry will not change that
	}
	if err := p.Check(order.ID, order.Amount, order.Currency); err != nil {
		s.Log.Warn("payment does not match its order; not delivering", "payment", p.PaymentID, "order", order.ID, "err", err)
		return nil
	}
	changed, err := s.Orders.MarkPaid(order.ID, p.PaymentID, time.Now())
	switch {
	case errors.Is(err, errNotOrdersPayment):
		// Right order id, amount and currency, but not the payment this
		// shop created for the order: nothing proves it was meant for it.
		s.Log.Warn("payment is not the one created for its order; not delivering", "err", err)
		return nil
	case err != nil:
		return err // 500: Khipu notifies again later
	}
	if changed {
		s.Log.Info("order paid", "order", order.ID, "payment", p.PaymentID)
		// Slow work (e-mail, shipping) belongs in a queue, after answering.
	}
	return nil
}
